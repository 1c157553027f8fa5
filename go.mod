module glassbox

go 1.26.8

require golang.org/x/sys v0.50.0

require github.com/opencontainers/runtime-spec v1.3.0
