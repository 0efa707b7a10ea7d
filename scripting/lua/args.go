package lua

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Argument handling as FreeSWITCH's SWIG wrappers do it: a wrong count or
// type raises a Lua error naming the C++ method ("Error in
// CoreSession::getDigits (arg 2), expected 'int' got 'table'"); a string
// parameter accepts nil (NULL) and numbers; an int parameter accepts
// numbers and numeric strings; a bool parameter only booleans.

// nargs checks that the call has from min to max arguments, self
// included.
func nargs(L *lua.LState, fn string, min, max int) {
	if n := L.GetTop(); n < min || n > max {
		L.RaiseError("Error in %s expected %d..%d args, got %d", fn, min, max, n)
	}
}

// typeName is how SWIG names the type of argument i in its errors.
func typeName(L *lua.LState, i int) string {
	if i > L.GetTop() {
		return "no value"
	}
	v := L.Get(i)
	if ud, ok := v.(*lua.LUserData); ok {
		if o, ok := ud.Value.(interface{ swigType() string }); ok {
			return o.swigType()
		}
		return "userdata (unknown type)"
	}
	return v.Type().String()
}

func badArg(L *lua.LState, fn string, i int, want string) {
	L.RaiseError("Error in %s (arg %d), expected '%s' got '%s'", fn, i, want, typeName(L, i))
}

// intArg reads argument i as a C int (truncated toward zero).
func intArg(L *lua.LState, i int, fn string) int {
	switch v := L.Get(i).(type) {
	case lua.LNumber:
		return toInt(float64(v))
	case lua.LString:
		if f, ok := parseNumber(string(v)); ok {
			return toInt(f)
		}
	}
	badArg(L, fn, i, "int")
	return 0
}

// optInt is intArg with a default when the argument is absent.
func optInt(L *lua.LState, i int, fn string, def int) int {
	if i > L.GetTop() {
		return def
	}
	return intArg(L, i, fn)
}

// strArg reads argument i as a C string; nil (and an absent argument)
// reads as NULL: "" with isNil true.
func strArg(L *lua.LState, i int, fn string) (s string, isNil bool) {
	switch v := L.Get(i).(type) {
	case *lua.LNilType:
		return "", true
	case lua.LString:
		return string(v), false
	case lua.LNumber:
		return v.String(), false
	}
	badArg(L, fn, i, "char *")
	return "", true
}

// str is strArg without the nil flag.
func str(L *lua.LState, i int, fn string) string {
	s, _ := strArg(L, i, fn)
	return s
}

// optStr is strArg with a default when the argument is absent.
func optStr(L *lua.LState, i int, fn, def string) string {
	if i > L.GetTop() {
		return def
	}
	return str(L, i, fn)
}

// boolArg reads argument i as a C++ bool: only true and false.
func boolArg(L *lua.LState, i int, fn string) bool {
	if b, ok := L.Get(i).(lua.LBool); ok {
		return bool(b)
	}
	badArg(L, fn, i, "bool")
	return false
}

// toInt converts like a C cast, saturating instead of overflowing.
func toInt(f float64) int {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int(f)
}

// parseNumber reads a string as lua_isnumber does: decimal or hex, with
// surrounding white space.
func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		n, err := strconv.ParseUint(h, 16, 64)
		return float64(n), err == nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// toString converts a value as lua_tostring does: strings and numbers
// give their text, anything else ok false (NULL).
func toString(v lua.LValue) (string, bool) {
	switch v := v.(type) {
	case lua.LString:
		return string(v), true
	case lua.LNumber:
		return v.String(), true
	}
	return "", false
}

// pushStr pushes a C string result: the string, or nil when ok is false.
func pushStr(L *lua.LState, s string, ok bool) int {
	if !ok {
		L.Push(lua.LNil)
	} else {
		L.Push(lua.LString(s))
	}
	return 1
}

// pushInt pushes an int result.
func pushInt(L *lua.LState, n int) int {
	L.Push(lua.LNumber(n))
	return 1
}

// pushBool pushes a bool result.
func pushBool(L *lua.LState, b bool) int {
	L.Push(lua.LBool(b))
	return 1
}
