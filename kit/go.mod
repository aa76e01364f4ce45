module github.com/airgap-go-constructs/kit

go 1.26.0

require (
	github.com/hiddeco/sshsig v0.2.0
	github.com/klauspost/compress v1.20.4
	github.com/opencontainers/go-digest v1.0.0
	github.com/opencontainers/image-spec v1.1.1
	golang.org/x/crypto v0.59.0
	golang.org/x/mod v0.43.0
	oras.land/oras-go/v2 v2.7.0
)

require (
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
