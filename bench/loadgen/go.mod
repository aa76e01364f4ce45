module github.com/airgap-go-constructs/bench/loadgen

go 1.26.0
