package lua

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// freeswitch.JSON: decode and encode as mod_lua's JSON class does with
// cJSON, including its output format (tabs and newlines unless
// return_unformatted_json(true)).

const jsonType = "LUA::JSON *"

type jsonObj struct {
	emptyAsObject bool
	unformatted   bool
}

func (*jsonObj) swigType() string { return jsonType }

func init() { types[jsonType] = typeInfo{methods: jsonMethods} }

// maxJSONDepth bounds nesting both ways (cJSON's CJSON_NESTING_LIMIT).
const maxJSONDepth = 1000

func newJSON(r *runtime, L *lua.LState) int {
	nargs(L, "new_JSON", 0, 0)
	L.Push(r.newObject(jsonType, &jsonObj{emptyAsObject: true}))
	return 1
}

func jm(L *lua.LState, fn string) *jsonObj { return self[*jsonObj](L, fn, jsonType) }

var jsonMethods = map[string]method{
	"decode": func(r *runtime, L *lua.LState) int {
		const fn = "LUA::JSON::decode"
		nargs(L, fn, 2, 2)
		jm(L, fn)
		dec := json.NewDecoder(strings.NewReader(str(L, 2, fn)))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return 0
		}
		L.Push(toLua(L, v, 0))
		return 1
	},
	"encode": func(r *runtime, L *lua.LState) int {
		const fn = "LUA::JSON::encode"
		nargs(L, fn, 2, 2)
		j := jm(L, fn)
		t, ok := L.Get(2).(*lua.LTable)
		if !ok {
			badArg(L, fn, 2, "SWIGLUA_TABLE")
		}
		var b strings.Builder
		if !j.encodeTable(&b, t, 1, map[*lua.LTable]bool{}) {
			L.RaiseError("JSON:encode: table nested too deeply or containing itself")
		}
		L.Push(lua.LString(b.String()))
		return 1
	},
	"encode_empty_table_as_object": func(r *runtime, L *lua.LState) int {
		const fn = "LUA::JSON::encode_empty_table_as_object"
		nargs(L, fn, 2, 2)
		jm(L, fn).emptyAsObject = boolArg(L, 2, fn)
		return 0
	},
	"return_unformatted_json": func(r *runtime, L *lua.LState) int {
		const fn = "LUA::JSON::return_unformatted_json"
		nargs(L, fn, 2, 2)
		jm(L, fn).unformatted = boolArg(L, 2, fn)
		return 0
	},
	"execute": func(r *runtime, L *lua.LState) int {
		const fn = "LUA::JSON::execute"
		nargs(L, fn, 2, 2)
		jm(L, fn)
		r.log.Error("JSON:execute: JSON API commands are not supported")
		return 0
	},
	"execute2": func(r *runtime, L *lua.LState) int {
		const fn = "LUA::JSON::execute2"
		nargs(L, fn, 2, 2)
		jm(L, fn)
		r.log.Error("JSON:execute2: JSON API commands are not supported")
		L.Push(lua.LString("null"))
		return 1
	},
}

// toLua converts decoded JSON as cJSON2LuaTable does: objects and arrays
// become tables (nulls are left out), numbers numbers. A scalar at the
// top gives an empty table.
func toLua(L *lua.LState, v any, depth int) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := L.CreateTable(0, len(v))
		if depth < maxJSONDepth {
			for k, x := range v {
				if x != nil {
					t.RawSetString(k, toLua(L, x, depth+1))
				}
			}
		}
		return t
	case []any:
		t := L.CreateTable(len(v), 0)
		if depth < maxJSONDepth {
			i := 0
			for _, x := range v {
				if x != nil {
					i++
					t.RawSetInt(i, toLua(L, x, depth+1))
				}
			}
		}
		return t
	case string:
		if depth == 0 {
			return L.NewTable()
		}
		return lua.LString(v)
	case json.Number:
		if depth == 0 {
			return L.NewTable()
		}
		f, _ := strconv.ParseFloat(string(v), 64)
		return lua.LNumber(f)
	case bool:
		if depth == 0 {
			return L.NewTable()
		}
		return lua.LBool(v)
	}
	return L.NewTable()
}

// encodeTable writes t: an array when its first key is 1, an object
// otherwise; an empty table as {} (or [] with
// encode_empty_table_as_object(false)). depth is the nesting level, for
// the format's tabs.
func (j *jsonObj) encodeTable(b *strings.Builder, t *lua.LTable, depth int, seen map[*lua.LTable]bool) bool {
	if depth > maxJSONDepth || seen[t] {
		return false
	}
	seen[t] = true
	defer delete(seen, t)
	type item struct {
		key string
		val lua.LValue
	}
	var items []item
	array := -1
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		if array < 0 {
			if n, ok := k.(lua.LNumber); ok && n == 1 {
				array = 1
			} else {
				array = 0
			}
		}
		ks, _ := toString(k)
		items = append(items, item{ks, v})
	}
	if array < 0 {
		if j.emptyAsObject {
			b.WriteString(j.open('{', depth))
			b.WriteString(j.close('}', depth))
		} else {
			b.WriteString("[]")
		}
		return true
	}
	if array == 1 {
		b.WriteByte('[')
		first := true
		for _, it := range items {
			if _, isFn := it.val.(*lua.LFunction); isFn {
				continue
			}
			if !first {
				b.WriteByte(',')
				if !j.unformatted {
					b.WriteByte(' ')
				}
			}
			first = false
			if !j.value(b, it.val, depth+1, seen) {
				return false
			}
		}
		b.WriteByte(']')
		return true
	}
	b.WriteString(j.open('{', depth))
	written := 0
	for _, it := range items {
		switch it.val.(type) {
		case *lua.LFunction, *lua.LUserData, *lua.LState:
			continue
		}
		if written > 0 {
			b.WriteByte(',')
			if !j.unformatted {
				b.WriteByte('\n')
			}
		}
		written++
		if !j.unformatted {
			b.WriteString(strings.Repeat("\t", depth))
		}
		writeJSONString(b, it.key)
		b.WriteByte(':')
		if !j.unformatted {
			b.WriteByte('\t')
		}
		if !j.value(b, it.val, depth+1, seen) {
			return false
		}
	}
	if written > 0 && !j.unformatted {
		b.WriteByte('\n')
	}
	b.WriteString(j.close('}', depth))
	return true
}

func (j *jsonObj) open(c byte, depth int) string {
	if j.unformatted {
		return string(c)
	}
	return string(c) + "\n"
}

func (j *jsonObj) close(c byte, depth int) string {
	if j.unformatted {
		return string(c)
	}
	return strings.Repeat("\t", depth-1) + string(c)
}

// value writes one value; functions and userdata are written as null.
func (j *jsonObj) value(b *strings.Builder, v lua.LValue, depth int, seen map[*lua.LTable]bool) bool {
	switch v := v.(type) {
	case lua.LNumber:
		b.WriteString(jsonNumber(float64(v)))
	case lua.LString:
		writeJSONString(b, string(v))
	case lua.LBool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case *lua.LTable:
		return j.encodeTable(b, v, depth, seen)
	default:
		b.WriteString("null")
	}
	return true
}

// jsonNumber prints a number as cJSON does: 15 significant digits, or 17
// when 15 do not give the number back; NaN and infinities as null.
func jsonNumber(d float64) string {
	if math.IsNaN(d) || math.IsInf(d, 0) {
		return "null"
	}
	s := strconv.FormatFloat(d, 'g', 15, 64)
	if back, err := strconv.ParseFloat(s, 64); err != nil || back != d {
		s = strconv.FormatFloat(d, 'g', 17, 64)
	}
	return s
}

// writeJSONString writes s quoted as cJSON does: ", \ and the control
// characters escaped, everything else as it is.
func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 32 {
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}
