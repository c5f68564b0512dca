package cache_test

import (
	"testing"

	"github.com/fanin-dev/fanin/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }
