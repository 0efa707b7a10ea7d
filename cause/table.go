package cause

// table is FreeSWITCH's cause chart: name, Q.850 value, the SIP response
// sent for it (mod_sofia hangup_cause_to_sip) and the SIP responses mapped
// to it (sofia_glue_sip_cause_to_freeswitch).
var table = [...]entry{
	{CNone, "NONE", 480, []int{}},
	{CUnallocatedNumber, "UNALLOCATED_NUMBER", 404, []int{404}},
	{CNoRouteTransitNet, "NO_ROUTE_TRANSIT_NET", 404, []int{}},
	{CNoRouteDestination, "NO_ROUTE_DESTINATION", 404, []int{485, 604}},
	{CChannelUnacceptable, "CHANNEL_UNACCEPTABLE", 480, []int{}},
	{CCallAwardedDelivered, "CALL_AWARDED_DELIVERED", 480, []int{}},
	{CNormalClearing, "NORMAL_CLEARING", 480, []int{200}},
	{CUserBusy, "USER_BUSY", 486, []int{486, 600}},
	{CNoUserResponse, "NO_USER_RESPONSE", 408, []int{480}},
	{CNoAnswer, "NO_ANSWER", 480, []int{}},
	{CSubscriberAbsent, "SUBSCRIBER_ABSENT", 480, []int{}},
	{CCallRejected, "CALL_REJECTED", 603, []int{401, 402, 403, 407, 603, 608}},
	{CNumberChanged, "NUMBER_CHANGED", 410, []int{410}},
	{CRedirectionToNewDestination, "REDIRECTION_TO_NEW_DESTINATION", 410, []int{}},
	{CExchangeRoutingError, "EXCHANGE_ROUTING_ERROR", 483, []int{482, 483}},
	{CDestinationOutOfOrder, "DESTINATION_OUT_OF_ORDER", 502, []int{}},
	{CInvalidNumberFormat, "INVALID_NUMBER_FORMAT", 484, []int{484}},
	{CFacilityRejected, "FACILITY_REJECTED", 501, []int{}},
	{CResponseToStatusEnquiry, "RESPONSE_TO_STATUS_ENQUIRY", 480, []int{}},
	{CNormalUnspecified, "NORMAL_UNSPECIFIED", 480, []int{}},
	{CNormalCircuitCongestion, "NORMAL_CIRCUIT_CONGESTION", 503, []int{}},
	{CNetworkOutOfOrder, "NETWORK_OUT_OF_ORDER", 503, []int{502}},
	{CNormalTemporaryFailure, "NORMAL_TEMPORARY_FAILURE", 503, []int{400, 481, 500, 503}},
	{CSwitchCongestion, "SWITCH_CONGESTION", 503, []int{}},
	{CAccessInfoDiscarded, "ACCESS_INFO_DISCARDED", 480, []int{}},
	{CRequestedChanUnavail, "REQUESTED_CHAN_UNAVAIL", 503, []int{}},
	{CPreEmpted, "PRE_EMPTED", 480, []int{}},
	{CFacilityNotSubscribed, "FACILITY_NOT_SUBSCRIBED", 480, []int{}},
	{COutgoingCallBarred, "OUTGOING_CALL_BARRED", 403, []int{}},
	{CIncomingCallBarred, "INCOMING_CALL_BARRED", 403, []int{}},
	{CBearercapabilityNotauth, "BEARERCAPABILITY_NOTAUTH", 403, []int{}},
	{CBearercapabilityNotavail, "BEARERCAPABILITY_NOTAVAIL", 503, []int{}},
	{CServiceUnavailable, "SERVICE_UNAVAILABLE", 480, []int{405}},
	{CBearercapabilityNotimpl, "BEARERCAPABILITY_NOTIMPL", 488, []int{}},
	{CChanNotImplemented, "CHAN_NOT_IMPLEMENTED", 480, []int{}},
	{CFacilityNotImplemented, "FACILITY_NOT_IMPLEMENTED", 501, []int{}},
	{CServiceNotImplemented, "SERVICE_NOT_IMPLEMENTED", 501, []int{406, 415, 501}},
	{CInvalidCallReference, "INVALID_CALL_REFERENCE", 480, []int{}},
	{CIncompatibleDestination, "INCOMPATIBLE_DESTINATION", 488, []int{488, 606}},
	{CInvalidMsgUnspecified, "INVALID_MSG_UNSPECIFIED", 480, []int{}},
	{CMandatoryIeMissing, "MANDATORY_IE_MISSING", 480, []int{}},
	{CMessageTypeNonexist, "MESSAGE_TYPE_NONEXIST", 480, []int{}},
	{CWrongMessage, "WRONG_MESSAGE", 480, []int{}},
	{CIeNonexist, "IE_NONEXIST", 480, []int{}},
	{CInvalidIeContents, "INVALID_IE_CONTENTS", 480, []int{}},
	{CWrongCallState, "WRONG_CALL_STATE", 480, []int{}},
	{CRecoveryOnTimerExpire, "RECOVERY_ON_TIMER_EXPIRE", 504, []int{408, 504}},
	{CMandatoryIeLengthError, "MANDATORY_IE_LENGTH_ERROR", 480, []int{}},
	{CProtocolError, "PROTOCOL_ERROR", 480, []int{}},
	{CInterworking, "INTERWORKING", 480, []int{413, 414, 416, 420, 421, 423, 505, 513}},
	{CSuccess, "SUCCESS", 480, []int{}},
	{COriginatorCancel, "ORIGINATOR_CANCEL", 487, []int{487}},
	{CCrash, "CRASH", 480, []int{}},
	{CSystemShutdown, "SYSTEM_SHUTDOWN", 480, []int{}},
	{CLoseRace, "LOSE_RACE", 480, []int{}},
	{CManagerRequest, "MANAGER_REQUEST", 480, []int{}},
	{CBlindTransfer, "BLIND_TRANSFER", 480, []int{}},
	{CAttendedTransfer, "ATTENDED_TRANSFER", 480, []int{}},
	{CAllottedTimeout, "ALLOTTED_TIMEOUT", 480, []int{}},
	{CUserChallenge, "USER_CHALLENGE", 480, []int{}},
	{CMediaTimeout, "MEDIA_TIMEOUT", 480, []int{}},
	{CPickedOff, "PICKED_OFF", 480, []int{}},
	{CUserNotRegistered, "USER_NOT_REGISTERED", 480, []int{}},
	{CProgressTimeout, "PROGRESS_TIMEOUT", 480, []int{}},
	{CInvalidGateway, "INVALID_GATEWAY", 484, []int{}},
	{CGatewayDown, "GATEWAY_DOWN", 503, []int{}},
	{CInvalidUrl, "INVALID_URL", 484, []int{}},
	{CInvalidProfile, "INVALID_PROFILE", 502, []int{}},
	{CNoPickup, "NO_PICKUP", 480, []int{}},
	{CSrtpReadError, "SRTP_READ_ERROR", 480, []int{}},
	{CBowout, "BOWOUT", 480, []int{}},
	{CBusyEverywhere, "BUSY_EVERYWHERE", 600, []int{}},
	{CDecline, "DECLINE", 603, []int{}},
	{CDoesNotExistAnywhere, "DOES_NOT_EXIST_ANYWHERE", 604, []int{}},
	{CNotAcceptable, "NOT_ACCEPTABLE", 606, []int{}},
	{CUnwanted, "UNWANTED", 607, []int{607}},
	{CNoIdentity, "NO_IDENTITY", 428, []int{428}},
	{CBadIdentityInfo, "BAD_IDENTITY_INFO", 429, []int{429}},
	{CUnsupportedCertificate, "UNSUPPORTED_CERTIFICATE", 437, []int{437}},
	{CInvalidIdentity, "INVALID_IDENTITY", 438, []int{438}},
	{CStaleDate, "STALE_DATE", 403, []int{}},
	{CRejectAll, "REJECT_ALL", 603, []int{}},
}

// Causes, with their Q.850 (or FreeSWITCH-private) values.
const (
	CNone                        Cause = 0
	CUnallocatedNumber           Cause = 1
	CNoRouteTransitNet           Cause = 2
	CNoRouteDestination          Cause = 3
	CChannelUnacceptable         Cause = 6
	CCallAwardedDelivered        Cause = 7
	CNormalClearing              Cause = 16
	CUserBusy                    Cause = 17
	CNoUserResponse              Cause = 18
	CNoAnswer                    Cause = 19
	CSubscriberAbsent            Cause = 20
	CCallRejected                Cause = 21
	CNumberChanged               Cause = 22
	CRedirectionToNewDestination Cause = 23
	CExchangeRoutingError        Cause = 25
	CDestinationOutOfOrder       Cause = 27
	CInvalidNumberFormat         Cause = 28
	CFacilityRejected            Cause = 29
	CResponseToStatusEnquiry     Cause = 30
	CNormalUnspecified           Cause = 31
	CNormalCircuitCongestion     Cause = 34
	CNetworkOutOfOrder           Cause = 38
	CNormalTemporaryFailure      Cause = 41
	CSwitchCongestion            Cause = 42
	CAccessInfoDiscarded         Cause = 43
	CRequestedChanUnavail        Cause = 44
	CPreEmpted                   Cause = 45
	CFacilityNotSubscribed       Cause = 50
	COutgoingCallBarred          Cause = 52
	CIncomingCallBarred          Cause = 54
	CBearercapabilityNotauth     Cause = 57
	CBearercapabilityNotavail    Cause = 58
	CServiceUnavailable          Cause = 63
	CBearercapabilityNotimpl     Cause = 65
	CChanNotImplemented          Cause = 66
	CFacilityNotImplemented      Cause = 69
	CServiceNotImplemented       Cause = 79
	CInvalidCallReference        Cause = 81
	CIncompatibleDestination     Cause = 88
	CInvalidMsgUnspecified       Cause = 95
	CMandatoryIeMissing          Cause = 96
	CMessageTypeNonexist         Cause = 97
	CWrongMessage                Cause = 98
	CIeNonexist                  Cause = 99
	CInvalidIeContents           Cause = 100
	CWrongCallState              Cause = 101
	CRecoveryOnTimerExpire       Cause = 102
	CMandatoryIeLengthError      Cause = 103
	CProtocolError               Cause = 111
	CInterworking                Cause = 127
	CSuccess                     Cause = 142
	COriginatorCancel            Cause = 487
	CCrash                       Cause = 700
	CSystemShutdown              Cause = 701
	CLoseRace                    Cause = 702
	CManagerRequest              Cause = 703
	CBlindTransfer               Cause = 800
	CAttendedTransfer            Cause = 801
	CAllottedTimeout             Cause = 802
	CUserChallenge               Cause = 803
	CMediaTimeout                Cause = 804
	CPickedOff                   Cause = 805
	CUserNotRegistered           Cause = 806
	CProgressTimeout             Cause = 807
	CInvalidGateway              Cause = 808
	CGatewayDown                 Cause = 809
	CInvalidUrl                  Cause = 810
	CInvalidProfile              Cause = 811
	CNoPickup                    Cause = 812
	CSrtpReadError               Cause = 813
	CBowout                      Cause = 814
	CBusyEverywhere              Cause = 815
	CDecline                     Cause = 816
	CDoesNotExistAnywhere        Cause = 817
	CNotAcceptable               Cause = 818
	CUnwanted                    Cause = 819
	CNoIdentity                  Cause = 820
	CBadIdentityInfo             Cause = 821
	CUnsupportedCertificate      Cause = 822
	CInvalidIdentity             Cause = 823
	CStaleDate                   Cause = 824
	CRejectAll                   Cause = 825
)
