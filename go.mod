module github.com/switchboard-voip/switchboard

go 1.26.8

require (
	github.com/beevik/etree v1.8.1 // indirect
	github.com/dlclark/regexp2 v1.12.0 // indirect
	golang.org/x/tools v0.52.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
