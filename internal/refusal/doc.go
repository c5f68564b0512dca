// Package refusal explains a refused operation to an operator in one text,
// which the coordinator CLI prints and the HTTP API answers alike: besides
// why it was refused, what can be done instead.
package refusal
