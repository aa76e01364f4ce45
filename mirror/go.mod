module github.com/airgap-go-constructs/mirror

go 1.26.0
