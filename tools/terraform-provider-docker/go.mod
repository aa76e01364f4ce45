// Wrapper module: builds kreuzwerker/terraform-provider-docker at the
// pseudo-version pinned in tools/versions.env. Its go.mod declares the old
// path github.com/terraform-providers/terraform-provider-docker, so we require
// that path and point it at the repository's path (fork-style replace).
module airgap-go-constructs/tools/terraform-provider-docker

go 1.25.8

require github.com/terraform-providers/terraform-provider-docker v0.0.0-20260916201441-96d331c98ff4

replace github.com/terraform-providers/terraform-provider-docker => github.com/kreuzwerker/terraform-provider-docker v0.0.0-20260916201441-96d331c98ff4
