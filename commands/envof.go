package commands

import "github.com/switchboard-voip/switchboard/vars"

// EnvOf returns the Env behind a vars.API that AsAPI made, so that code
// holding only a channel's expansion API (a script run by the dialplan)
// can reach the switch's commands and capabilities. ok is false for any
// other vars.API.
func EnvOf(a vars.API) (env Env, ok bool) {
	x, ok := a.(api)
	if !ok || x.env == nil {
		return nil, false
	}
	return x.env, true
}
