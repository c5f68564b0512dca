package main

import (
	"errors"
	"testing"
)

func TestIsUsage(t *testing.T) {
	t.Parallel()
	if !isUsage(errors.New(`unknown command "x" for "coordinator"`)) || isUsage(errors.New("job failed")) {
		t.Error("isUsage misclassifies")
	}
}
