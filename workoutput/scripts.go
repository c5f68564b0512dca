package workoutput

import (
	_ "embed"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/locks"
)

var (
	//go:embed lua/complete.lua
	completeLua string
	//go:embed lua/open.lua
	openLua string
	//go:embed lua/add.lua
	addLua string
	//go:embed lua/seal.lua
	sealLua string
	//go:embed lua/write.lua
	writeLua string
	//go:embed lua/pending.lua
	pendingLua string
	//go:embed lua/missing.lua
	missingLua string
	//go:embed lua/transition.lua
	transitionLua string
	//go:embed lua/claim.lua
	claimLua string
	//go:embed lua/commit.lua
	commitLua string
)

// scripts are the Lua scripts of a Store.
type scripts struct {
	open, add, seal, write, pending, missing, transition *redis.Script
	claim, commit                                        *redis.Script
}

func newScripts() scripts {
	return scripts{
		open:       redis.NewScript(completeLua + openLua),
		add:        redis.NewScript(addLua),
		seal:       redis.NewScript(completeLua + sealLua),
		write:      redis.NewScript(completeLua + writeLua),
		pending:    redis.NewScript(pendingLua),
		missing:    redis.NewScript(missingLua),
		transition: redis.NewScript(transitionLua),
		claim:      redis.NewScript(locks.FenceLua() + "\n" + claimLua),
		commit:     redis.NewScript(locks.FenceLua() + "\n" + commitLua),
	}
}
