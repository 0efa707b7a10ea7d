package dialplan

// timeCheck is a compiled set of time attributes. PLACEHOLDER: replaced by
// the real implementation.
type timeCheck struct{}
