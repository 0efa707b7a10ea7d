package session

// State is a channel state, named as FreeSWITCH names them (CS_*).
type State int32

// Channel states, in FreeSWITCH's order.
const (
	CSNew State = iota
	CSInit
	CSRouting
	CSSoftExecute
	CSExecute
	CSExchangeMedia
	CSPark
	CSConsumeMedia
	CSHibernate
	CSReset
	CSHangup
	CSReporting
	CSDestroy
)

var stateNames = [...]string{
	"CS_NEW", "CS_INIT", "CS_ROUTING", "CS_SOFT_EXECUTE", "CS_EXECUTE",
	"CS_EXCHANGE_MEDIA", "CS_PARK", "CS_CONSUME_MEDIA", "CS_HIBERNATE",
	"CS_RESET", "CS_HANGUP", "CS_REPORTING", "CS_DESTROY",
}

// String returns the state's FreeSWITCH name, e.g. "CS_EXECUTE".
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "CS_UNKNOWN"
}
