package apps

import (
	"sort"
	"strings"
)

// Info describes an application FreeSWITCH ships: its name, the module
// that registers it, its flags and its registered usage string.
type Info struct {
	Name        string
	Module      string // FreeSWITCH module, e.g. "mod_dptools"
	Flags       Flags
	Usage       string // FreeSWITCH's registered syntax string, verbatim
	Description string
}

// Known returns the FreeSWITCH flags of the application called name
// (ignoring case) from the catalogue, whether or not Switchboard implements
// it. ok is false for a name FreeSWITCH does not ship. Use FlagsOf for
// the flags an application actually runs with.
//
// The catalogue lets `check` tell "not implemented yet" from "unknown
// application", and lets the hunt know whether an unimplemented
// application would be allowed inline.
func Known(name string) (f Flags, ok bool) {
	if i, ok := KnownApp(name); ok {
		return i.Flags, true
	}
	return 0, false
}

// KnownApp returns the catalogue entry for the application called name,
// ignoring case.
func KnownApp(name string) (Info, bool) {
	k := strings.ToLower(name)
	i := sort.Search(len(catalogue), func(i int) bool { return strings.ToLower(catalogue[i].Name) >= k })
	if i < len(catalogue) && strings.ToLower(catalogue[i].Name) == k {
		return catalogue[i], true
	}
	return Info{}, false
}

// Catalogue returns a copy of every catalogued application, sorted by name
// ignoring case.
func Catalogue() []Info { return append([]Info(nil), catalogue[:]...) }

// Short names for the flags, for the table below.
const (
	fN = SupportNoMedia
	fR = RoutingExec
	fZ = ZombieExec
	fT = MediaTap
	fL = NoLoopback
	fX = SupportTextOnly
)

// catalogue lists the applications of a stock FreeSWITCH: every one
// mod_dptools registers, those of the other modules the vanilla
// configuration loads (mod_conference, mod_db, mod_enum, mod_esf,
// mod_event_socket, mod_fifo, mod_fsv, mod_hash, mod_httapi, mod_loopback,
// mod_lua, mod_sofia, mod_spandsp, mod_valet_parking, mod_voicemail,
// mod_dialplan_asterisk), and those of the modules real dialplans commonly
// add (mod_v8, mod_callcenter, mod_directory, and the routing-time lookup
// modules: mod_curl, mod_cidlookup, mod_lcr, mod_easyroute, mod_nibblebill,
// mod_translate, mod_distributor, mod_hiredis, mod_osp, mod_smpp).
//
// Names, flags and usage strings are those of the modules' application
// registrations in the FreeSWITCH source; descriptions are ours. The table
// is sorted by name ignoring case (KnownApp searches it) and never changes
// at run time.
var catalogue = [...]Info{
	{"acknowledge_call", "mod_dptools", fN, "", "Tell the caller the call was received"},
	{"answer", "mod_dptools", fN, "", "Answer the call"},
	{"att_xfer", "mod_dptools", 0, "<channel_url>", "Attended transfer"},
	{"AvoidingDeadlock", "mod_dialplan_asterisk", fN, "Avoid", "Asterisk compatibility delay"},
	{"bgsystem", "mod_dptools", fN | fZ, "<command>", "Run a shell command in the background"},
	{"bind_digit_action", "mod_dptools", fN, "<realm>,<digits|~regex>,<string>[,<value>][,<dtmf target leg>][,<event target leg>]", "Bind a digit sequence or regex to an action"},
	{"bind_meta_app", "mod_dptools", fN, "<key> [a|b|ab] [a|b|o|s|i|1] <app>", "Bind a meta key to an application"},
	{"blind_transfer_ack", "mod_dptools", 0, "[true|false]", "Report the outcome of a blind transfer to the transferor"},
	{"block_dtmf", "mod_dptools", fN, "", "Stop passing DTMF on"},
	{"break", "mod_dptools", fN, "", "Interrupt the current media operation"},
	{"bridge", "mod_dptools", fN | fX, "<channel_url>", "Call another leg and bridge to it"},
	{"bridge_export", "mod_dptools", fN | fR | fZ, "<varname>=<value>", "Set a variable here and on the bridged leg"},
	{"broadcast", "mod_dptools", 0, "<path> <leg>", "Play a file to one or both legs"},
	{"callcenter", "mod_callcenter", 0, "queue_name", "Queue the call in a call center queue"},
	{"callcenter_track", "mod_callcenter", fN, "queue_name", "Count an outside call against a call center agent"},
	{"capture", "mod_dptools", fN, "<varname>|<data>|<regex>", "Store a regex's capture groups in an array variable"},
	{"capture_text", "mod_dptools", fN | fX, "", "Capture received real-time text"},
	{"check_acl", "mod_dptools", fN | fR, "<ip> <acl | cidr> [<hangup_cause>]", "Hang up unless an address is allowed by an ACL"},
	{"cidlookup", "mod_cidlookup", fN | fR, "[number [skipurl]]", "Look up the caller ID name"},
	{"clear_digit_action", "mod_dptools", fN, "<realm>|all[,target]", "Remove digit action bindings"},
	{"clear_speech_cache", "mod_dptools", 0, "", "Clear the text-to-speech handle cache"},
	{"cng_plc", "mod_dptools", fN | fR, "", "Apply packet loss concealment to comfort noise"},
	{"conference", "mod_conference", fX, "", "Join a conference"},
	{"conference_set_auto_outcall", "mod_conference", 0, "", "Add a number a conference calls when it starts"},
	{"curl", "mod_curl", fN | fR, "curl url [headers|json|content-type <mime-type>|connect-timeout <seconds>|timeout <seconds>|append_headers <header_name:header_value>[|append_headers <header_name:header_value>]|insecure|secure|[proxy <http://proxy:port>]] [get|head|post|delete|put [data]]", "Make an HTTP request"},
	{"curl_sendfile", "mod_curl", fN | fR, "<url> <filenameParamName=filepath> [nopost|postparam1=foo&postparam2=bar... [event|none  [identifier ]]]", "Upload a file over HTTP"},
	{"db", "mod_db", fN | fZ, "[insert|delete]/<realm>/<key>/<val>", "Change a value in the database"},
	{"debug_media", "mod_dptools", fN, "<read|write|both|vread|vwrite|vboth|all> <on|off>", "Log media debugging information"},
	{"decode_video", "mod_fsv", 0, "[max_pictures]", "Decode video pictures to the log"},
	{"deduplicate_dtmf", "mod_dptools", fN, "[only_rtp]", "Drop DTMF received both in-band and as RFC 2833"},
	{"deflect", "mod_dptools", fN, "<deflect_data>", "Send an answered call elsewhere"},
	{"delay_echo", "mod_dptools", 0, "<delay ms>", "Echo audio back after a delay"},
	{"detect_audio", "mod_dptools", 0, "<threshold> <audio_hits> <timeout_ms> [<file>]", "Wait for audio"},
	{"detect_silence", "mod_dptools", 0, "<threshold> <silence_hits> <timeout_ms> [<file>]", "Wait for silence"},
	{"detect_speech", "mod_dptools", 0, "<mod_name> <gram_name> <gram_path> [<addr>] OR grammar <gram_name> [<path>] OR nogrammar <gram_name> OR grammaron/grammaroff <gram_name> OR grammarsalloff OR pause OR resume OR start_input_timers OR stop OR param <name> <value>", "Control speech recognition"},
	{"Dial", "mod_dialplan_asterisk", fN, "Dial", "Asterisk-style Dial"},
	{"digit_action_set_realm", "mod_dptools", fN, "<realm>[,<target>]", "Switch the active digit action realm"},
	{"directory", "mod_directory", 0, "<profile_name> <domain_name> [<context_name>] | [<dialplan_name> <context_name>]", "Dial-by-name directory"},
	{"displace_session", "mod_dptools", fT, "<path> [<flags>] [+time_limit_ms]", "Mix a file into, or replace, the call's audio"},
	{"distributor", "mod_distributor", fN | fR, "<list name>[ <exception1> <exceptionN>]", "Pick a target from a weighted list"},
	{"early_hangup", "mod_dptools", fN | fR, "", "Allow the call to be hung up during early media"},
	{"easyroute", "mod_easyroute", fN | fR, "<number>", "Look up a route in the easyroute database"},
	{"eavesdrop", "mod_dptools", fT, "[all | <uuid>]", "Listen in on another call"},
	{"echo", "mod_dptools", fX, "", "Echo received media back"},
	{"enable_heartbeat", "mod_dptools", fN, "[0|<seconds>]", "Fire heartbeat events from the media thread"},
	{"enable_keepalive", "mod_dptools", fN, "[0|<seconds>]", "Send media keepalives"},
	{"endless_playback", "mod_dptools", 0, "<path>", "Play a file over and over until hangup"},
	{"enum", "mod_enum", fN | fR, "[reload | <number> [<root>]]", "Look up ENUM routes"},
	{"esf_page_group", "mod_esf", 0, "", "Multicast page"},
	{"eval", "mod_dptools", fN | fR | fZ, "", "Do nothing; the data is still expanded"},
	{"event", "mod_dptools", fN | fR | fZ, "", "Fire an event"},
	{"execute_extension", "mod_dptools", fN, "<extension> <dialplan> <context>", "Run another extension's actions, then come back"},
	{"export", "mod_dptools", fN | fR | fZ, "<varname>=<value>", "Set a variable here and on legs originated from this one"},
	{"fax_detect", "mod_dptools", fT, "", "Detect fax tones"},
	{"fifo", "mod_fifo", 0, "<fifo name>[!<importance_number>] [in [<announce file>|undef] [<music file>|undef] [early|noans] | out [wait|nowait] [<announce file>|undef] [<music file>|undef]]", "Queue calls in, or serve them from, a FIFO"},
	{"fifo_track_call", "mod_fifo", fN, "<fifo_outbound_uuid>", "Count an outbound call as a FIFO call"},
	{"filter_codecs", "mod_dptools", fN, "<codec string>", "Restrict the codecs offered"},
	{"flush_dtmf", "mod_dptools", fN, "", "Discard queued DTMF"},
	{"gentones", "mod_dptools", 0, "<tgml_script>[|<loops>]", "Generate tones"},
	{"Goto", "mod_dialplan_asterisk", fN, "Goto", "Asterisk-style Goto"},
	{"group", "mod_db", fN | fZ, "[insert|delete]:<group name>:<val>", "Add to or remove from a group"},
	{"hangup", "mod_dptools", fN, "[<cause>]", "Hang up the call"},
	{"hash", "mod_hash", fN | fZ, "[insert|insert_ifempty|delete|delete_ifmatch]/<realm>/<key>/<val>", "Change a value in the in-memory hash"},
	{"hiredis_raw", "mod_hiredis", fN | fR | fZ, "", "Send a raw Redis command"},
	{"hold", "mod_dptools", fN, "[<display message>]", "Put the call on hold"},
	{"httapi", "mod_httapi", fN, "{<param1>=<val1>}", "Run an HTTAPI session"},
	{"info", "mod_dptools", fN | fR | fZ, "", "Log the channel's data and variables"},
	{"intercept", "mod_dptools", 0, "[-bleg] <uuid>", "Take over another call"},
	{"ivr", "mod_dptools", 0, "<menu_name>", "Run an IVR menu"},
	{"javascript", "mod_v8", fN, "<script> [additional_vars [...]]", "Run a JavaScript script"},
	{"jitterbuffer", "mod_dptools", fN, "<jitterbuffer_data>", "Configure the jitter buffer"},
	{"lcr", "mod_lcr", fN | fR, "<number>", "Look up least-cost routes"},
	{"limit", "mod_dptools", fN, "<backend> <realm> <id> [<max>[/interval]] [number [dialplan [context]]]", "Limit concurrent calls"},
	{"limit_execute", "mod_dptools", fN, "<backend> <realm> <id> <max>[/interval] <application> [application arguments]", "Run an application under a limit"},
	{"limit_hash", "mod_dptools", fN, "<realm> <id> [<max>[/interval]] [number [dialplan [context]]]", "Limit concurrent calls with the hash backend"},
	{"limit_hash_execute", "mod_dptools", fN, "<realm> <id> <max>[/interval] <application> [application arguments]", "Run an application under a hash-backend limit"},
	{"log", "mod_dptools", fN | fR | fZ, "<log_level> <log_string>", "Write a line to the log"},
	{"loop_playback", "mod_dptools", 0, "[+loops] <path>", "Play a file a number of times"},
	{"lua", "mod_lua", fN | fR | fZ | fX, "<script>", "Run a Lua script"},
	{"media_reset", "mod_dptools", fN, "", "Clear the bypass and proxy media flags"},
	{"mkdir", "mod_dptools", fN, "<path>", "Create a directory"},
	{"multiset", "mod_dptools", fN | fR | fZ, "[^^<delim>]<varname>=<value> <var2>=<val2>", "Set several channel variables"},
	{"multiunset", "mod_dptools", fN | fR | fZ, "[^^<delim>]<varname> <var2> <var3>", "Remove several channel variables"},
	{"mutex", "mod_dptools", fN, "<keyname>[ on|off]", "Let only one call at a time through a named section"},
	{"native_eavesdrop", "mod_dptools", fT, "<uuid> [read|write]", "Listen in on another call without transcoding"},
	{"nibblebill", "mod_nibblebill", fN | fR, "pause | resume | reset | adjust <amount> | heartbeat <seconds> | check", "Control call billing"},
	{"novideo", "mod_dptools", fN | fR, "", "Refuse inbound video"},
	{"osplookup", "mod_osp", fN | fR, "", "Look up OSP routes"},
	{"ospnext", "mod_osp", fN | fR, "", "Take the next OSP route"},
	{"page", "mod_dptools", 0, "<var1=val1,var2=val2><chan1>[:_:<chanN>]", "Page a list of channels"},
	{"park", "mod_dptools", fN, "", "Park the call"},
	{"park_state", "mod_dptools", 0, "", "Park the call in its current state"},
	{"phrase", "mod_dptools", 0, "<macro_name>,<data>", "Speak a phrase macro"},
	{"pickup", "mod_dptools", fN, "[<key>]", "Pick up a ringing call"},
	{"play_and_detect_speech", "mod_dptools", 0, "<file> detect:<engine> {param1=val1,param2=val2}<grammar>", "Play a file while recognising speech"},
	{"play_and_get_digits", "mod_dptools", 0, "\n\t<min> <max> <tries> <timeout> <terminators> <file> <invalid_file> <var_name> <regexp> [<digit_timeout>] ['<failure_ext> [failure_dp [failure_context]]']", "Prompt for digits and check them against a regex"},
	{"play_fsv", "mod_fsv", 0, "<file>", "Play an FSV video file"},
	{"play_yuv", "mod_fsv", 0, "<file> [width] [height]", "Play a raw YUV video file"},
	{"playback", "mod_dptools", 0, "<path>", "Play a file"},
	{"pre_answer", "mod_dptools", fN, "", "Send early media"},
	{"preprocess", "mod_dptools", 0, "", "Audio preprocessing"},
	{"presence", "mod_dptools", fN | fR, "<rpid> <status> [<id>]", "Send a presence update"},
	{"privacy", "mod_dptools", fN, "off|on|name|full|number", "Set caller ID privacy"},
	{"push", "mod_dptools", fN | fR | fZ, "<varname>=<value>", "Append a value to an array variable"},
	{"queue_dtmf", "mod_dptools", fN, "<dtmf_data>", "Queue DTMF for sending"},
	{"read", "mod_dptools", 0, "<min> <max> <file> <var_name> <timeout> <terminators> <digit_timeout>", "Play a prompt and collect digits"},
	{"record", "mod_dptools", 0, "<path> [<time_limit_secs>] [<silence_thresh>] [<silence_hits>]", "Record received audio to a file"},
	{"record_fsv", "mod_fsv", 0, "<file>", "Record an FSV video file"},
	{"record_session", "mod_dptools", fT, "<path> [+<timeout>]", "Record the call in the background"},
	{"record_session_mask", "mod_dptools", fT, "<path>", "Mask audio in a session recording"},
	{"record_session_pause", "mod_dptools", fT, "<path>", "Pause a session recording"},
	{"record_session_resume", "mod_dptools", fT, "<path>", "Resume a paused session recording"},
	{"record_session_unmask", "mod_dptools", fT, "<path>", "Stop masking audio in a session recording"},
	{"recovery_refresh", "mod_dptools", fN, "", "Refresh the call's recovery data"},
	{"redirect", "mod_dptools", fN, "<redirect_data>", "Redirect the call"},
	{"remove_bugs", "mod_dptools", 0, "[<function>]", "Remove media bugs from the channel"},
	{"rename", "mod_dptools", fN | fZ, "<from_path> <to_path>", "Rename a file"},
	{"respond", "mod_dptools", fN, "<respond_data>", "Send a SIP response"},
	{"reuse_caller_profile", "mod_dptools", fN, "", "Keep the caller profile across transfers"},
	{"ring_ready", "mod_dptools", fN, "", "Signal ringing"},
	{"rxfax", "mod_spandsp", fN | fL, "<filename>", "Receive a fax"},
	{"say", "mod_dptools", 0, "<module_name>[:<lang>] <say_type> <say_method> [<say_gender>] <text>", "Say a number, date or other value"},
	{"sched_broadcast", "mod_dptools", fN, "[+]<time> <path> [aleg|bleg|both]", "Schedule a broadcast"},
	{"sched_cancel", "mod_dptools", fN, "[group]", "Cancel scheduled tasks"},
	{"sched_hangup", "mod_dptools", fN, "[+]<time> [<cause>]", "Schedule a hangup"},
	{"sched_heartbeat", "mod_dptools", fN, "[0|<seconds>]", "Fire heartbeat events on a schedule"},
	{"sched_transfer", "mod_dptools", fN, "[+]<time> <extension> <dialplan> <context>", "Schedule a transfer"},
	{"send_display", "mod_dptools", fN, "<text>", "Update the remote party's display"},
	{"send_dtmf", "mod_dptools", fN, "<dtmf_data>", "Send DTMF"},
	{"send_info", "mod_dptools", fN, "<info>", "Send a SIP INFO"},
	{"session_loglevel", "mod_dptools", fN, "<level>", "Set the channel's log level"},
	{"set", "mod_dptools", fN | fR | fZ, "<varname>=<value>", "Set a channel variable"},
	{"set_audio_level", "mod_dptools", 0, "", "Change the audio level of a leg"},
	{"set_global", "mod_dptools", fN | fR | fZ, "<varname>=<value>", "Set a global variable"},
	{"set_media_stats", "mod_dptools", fN | fR | fZ, "", "Store media statistics in channel variables"},
	{"set_mute", "mod_dptools", 0, "", "Mute or unmute a leg"},
	{"set_name", "mod_dptools", fN, "<name>", "Rename the channel"},
	{"set_profile_var", "mod_dptools", fN | fR | fZ, "<varname>=<value>", "Set a caller profile field"},
	{"set_user", "mod_dptools", fN | fR, "<user>@<domain> [prefix]", "Load a directory user's variables"},
	{"set_zombie_exec", "mod_dptools", fN | fR, "", "Keep running applications after hangup"},
	{"sleep", "mod_dptools", fN, "<pausemilliseconds>", "Pause for a number of milliseconds"},
	{"smpp_send", "mod_smpp", fN | fR, "smpp_send", "Send a message over SMPP"},
	{"socket", "mod_event_socket", fN, "<ip>[:<port>]", "Hand the call to an outbound event socket"},
	{"sofia_sla", "mod_sofia", 0, "<uuid>", "Barge in on a shared line appearance"},
	{"sofia_stir_shaken_vs", "mod_sofia", fN, "", "Verify the SIP Identity header"},
	{"soft_hold", "mod_dptools", 0, "<unhold key> [<moh_a>] [<moh_b>]", "Put a bridged call on hold with music"},
	{"sound_test", "mod_dptools", 0, "", "Measure received audio levels"},
	{"spandsp_detect_tdd", "mod_spandsp", fT, "", "Detect TDD text"},
	{"spandsp_inject_tdd", "mod_spandsp", fT, "", "Send TDD text"},
	{"spandsp_send_tdd", "mod_spandsp", 0, "", "Send TDD text to the other leg"},
	{"spandsp_start_dtmf", "mod_spandsp", fT, "", "Detect in-band DTMF"},
	{"spandsp_start_fax_detect", "mod_spandsp", 0, "<app>[ <arg>][ <timeout>][ <tone_type>]", "Run an application when fax tones are heard"},
	{"spandsp_start_tone_detect", "mod_spandsp", 0, "<name>", "Detect tones with cadence"},
	{"spandsp_stop_detect_tdd", "mod_spandsp", 0, "", "Stop detecting TDD"},
	{"spandsp_stop_dtmf", "mod_spandsp", 0, "", "Stop in-band DTMF detection"},
	{"spandsp_stop_fax_detect", "mod_spandsp", 0, "", "Stop fax tone detection"},
	{"spandsp_stop_inject_tdd", "mod_spandsp", 0, "", "Stop sending TDD"},
	{"spandsp_stop_tone_detect", "mod_spandsp", 0, "", "Stop cadence tone detection"},
	{"speak", "mod_dptools", 0, "<engine>|<voice>|<text>", "Speak text"},
	{"start_dtmf", "mod_dptools", fT, "", "Detect in-band DTMF"},
	{"start_dtmf_generate", "mod_dptools", 0, "", "Generate in-band DTMF"},
	{"stop", "mod_dptools", fN | fR, "", "Do nothing"},
	{"stop_displace_session", "mod_dptools", 0, "<path>", "Stop displacing audio"},
	{"stop_dtmf", "mod_dptools", 0, "", "Stop in-band DTMF detection"},
	{"stop_dtmf_generate", "mod_dptools", 0, "[write]", "Stop in-band DTMF generation"},
	{"stop_record_session", "mod_dptools", 0, "<path>", "Stop a session recording"},
	{"stop_tone_detect", "mod_dptools", 0, "", "Stop tone detection"},
	{"stop_video_write_overlay", "mod_dptools", 0, "<path>", "Stop a video overlay"},
	{"stopfax", "mod_spandsp", 0, "", "Stop fax processing"},
	{"strftime", "mod_dptools", fN, "[<epoch>|]<format string>", "Set a variable to a formatted time"},
	{"system", "mod_dptools", fN | fZ, "<command>", "Run a shell command"},
	{"t38_gateway", "mod_spandsp", fT, "", "Become a T.38 gateway when fax tones are heard"},
	{"three_way", "mod_dptools", fT, "<uuid>", "Join another call as a third party"},
	{"tone_detect", "mod_dptools", fT, "", "Detect tones"},
	{"transfer", "mod_dptools", fN, "<exten> [<dialplan> <context>]", "Route the call again to another extension"},
	{"transfer_vars", "mod_dptools", fN | fZ, "<~variable_prefix|variable>", "Copy variables to the other leg"},
	{"translate", "mod_translate", fN | fR, "<number> <profile>]", "Rewrite a number with translation rules"},
	{"txfax", "mod_spandsp", fN | fL, "<filename>", "Send a fax"},
	{"unbind_meta_app", "mod_dptools", fN, "[<key>]", "Remove meta key bindings"},
	{"unblock_dtmf", "mod_dptools", fN, "", "Resume passing DTMF on"},
	{"unhold", "mod_dptools", fN, "", "Take the call off hold"},
	{"unloop", "mod_loopback", fL, "", "Collapse a loopback channel pair"},
	{"unset", "mod_dptools", fN | fR | fZ, "<varname>", "Remove a channel variable"},
	{"unshift", "mod_dptools", fN | fR | fZ, "<varname>=<value>", "Prepend a value to an array variable"},
	{"vad_test", "mod_dptools", 0, "[mode]", "Test voice activity detection"},
	{"valet_park", "mod_valet_parking", 0, "<lotname> <extension>|[ask [<min>] [<max>] [<to>] [<prompt>]|auto [in|out] [min] [max]]", "Park or retrieve a call in a valet lot"},
	{"verbose_events", "mod_dptools", fN | fR, "", "Include all variables in the channel's events"},
	{"video_decode", "mod_dptools", 0, "[[on|wait]|off]", "Control video decoding"},
	{"video_refresh", "mod_dptools", fN, "[manual|auto]", "Request a video key frame"},
	{"video_write_overlay", "mod_dptools", fT, "<path> [<pos>] [<alpha>]", "Overlay an image on outgoing video"},
	{"voicemail", "mod_voicemail", 0, "[check] [auth] <profile_name> <domain_name> [<id>] [uuid]", "Leave or check voicemail"},
	{"wait_for_answer", "mod_dptools", fN, "", "Wait until the call is answered"},
	{"wait_for_silence", "mod_dptools", 0, "<silence_thresh> <silence_hits> <listen_hits> <timeout_ms> [<file>]", "Wait for silence after audio"},
	{"wait_for_video_ready", "mod_dptools", 0, "[<ms, 1..10000>]", "Wait until the video stream is ready"},
}
