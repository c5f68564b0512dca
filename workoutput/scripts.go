package workoutput

import (
	_ "embed"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/locks"
)

var (
	//go:embed lua/lifecycle.lua
	lifecycleFuncsLua string
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
	//go:embed lua/stall.lua
	stallLua string
	//go:embed lua/claim.lua
	claimLua string
	//go:embed lua/commit.lua
	commitLua string
	//go:embed lua/cancel.lua
	cancelLua string
	//go:embed lua/sweep.lua
	sweepLua string
	//go:embed lua/note.lua
	noteLua string
	//go:embed lua/retry.lua
	retryLua string
	//go:embed lua/finish.lua
	finishLua string
)

// scripts are the Lua scripts of a Store. Every script that changes a job's
// state, or checks it with fanin_accepting, starts with the lifecycle
// prelude (lifecycleLua).
type scripts struct {
	open, add, seal, write, pending, missing, stall *redis.Script
	claim, commit, cancel, sweep, note, retry       *redis.Script
	finish                                          *redis.Script
}

func newScripts() scripts {
	life := lifecycleLua() + "\n"
	return scripts{
		open:    redis.NewScript(life + openLua),
		add:     redis.NewScript(addLua),
		seal:    redis.NewScript(life + sealLua),
		write:   redis.NewScript(life + writeLua),
		pending: redis.NewScript(pendingLua),
		missing: redis.NewScript(missingLua),
		stall:   redis.NewScript(life + stallLua),
		claim:   redis.NewScript(locks.FenceLua() + "\n" + life + claimLua),
		commit:  redis.NewScript(life + commitLua),
		cancel:  redis.NewScript(life + cancelLua),
		sweep:   redis.NewScript(sweepLua),
		note:    redis.NewScript(life + noteLua),
		retry:   redis.NewScript(life + retryLua),
		finish:  redis.NewScript(life + finishLua),
	}
}
