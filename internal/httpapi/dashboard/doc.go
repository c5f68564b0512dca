// Package dashboard holds fanin's web dashboard: one page (index.html)
// with its script and style sheet, embedded in the binary, nothing loaded
// from elsewhere. The page is the jobs list at / and a job's page at
// /jobs/{id}; it talks to the API under /api/v1/ only.
//
// The actions a job offers (cancel, replay, and later retry) come from the
// API (the job's "actions"): the page shows a button, with a confirmation,
// for each action the server lists, so a new action needs no change here
// beyond its label.
package dashboard
