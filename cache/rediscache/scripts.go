package rediscache

import (
	_ "embed" // for the Lua scripts

	"github.com/redis/go-redis/v9"
)

// The Lua scripts; each file starts with a comment listing its KEYS and ARGV.
var (
	//go:embed scripts/replace_if_equal.lua
	replaceIfEqualLua string
	//go:embed scripts/remove_if_equal.lua
	removeIfEqualLua string
	//go:embed scripts/incr.lua
	incrLua string
	//go:embed scripts/set_if.lua
	setIfLua string
	//go:embed scripts/list_add.lua
	listAddLua string
	//go:embed scripts/list_remove.lua
	listRemoveLua string
	//go:embed scripts/list_get.lua
	listGetLua string
)

// scripts are the Lua scripts of a Cache. Script.Run sends EVALSHA with the
// digest computed once here and falls back to EVAL when the server does not
// have the script yet.
type scripts struct {
	replaceIfEqual *redis.Script
	removeIfEqual  *redis.Script
	incr           *redis.Script
	setIf          *redis.Script
	listAdd        *redis.Script
	listRemove     *redis.Script
	listGet        *redis.Script
}

func newScripts() scripts {
	return scripts{
		replaceIfEqual: redis.NewScript(replaceIfEqualLua),
		removeIfEqual:  redis.NewScript(removeIfEqualLua),
		incr:           redis.NewScript(incrLua),
		setIf:          redis.NewScript(setIfLua),
		listAdd:        redis.NewScript(listAddLua),
		listRemove:     redis.NewScript(listRemoveLua),
		listGet:        redis.NewScript(listGetLua),
	}
}
