package dialstring_test

import (
	"fmt"

	"github.com/switchboard-voip/switchboard/dialstring"
)

func ExampleParse() {
	d, err := dialstring.Parse("<ultra=1>{global=2}[leg=3]sofia/internal/1000@host,user/1001|error/USER_BUSY:_:{g=4}loopback/9999")
	if err != nil {
		panic(err)
	}
	fmt.Println("ultra:", d.Vars)
	for i, g := range d.Groups {
		fmt.Println("group", i, "vars:", g.Vars)
		for j, t := range g.Tries {
			for _, l := range t.Legs {
				tech, rest := dialstring.SplitEndpoint(l.Endpoint)
				fmt.Printf("  try %d: %s %s %v\n", j, tech, rest, l.Vars)
			}
		}
	}
	fmt.Println(d)
	// Output:
	// ultra: [{ultra 1}]
	// group 0 vars: [{global 2}]
	//   try 0: sofia internal/1000@host [{leg 3}]
	//   try 0: user 1001 []
	//   try 1: error USER_BUSY []
	// group 1 vars: [{g 4}]
	//   try 0: loopback 9999 []
	// <ultra=1>{global=2}[leg=3]sofia/internal/1000@host,user/1001|error/USER_BUSY:_:{g=4}loopback/9999
}
