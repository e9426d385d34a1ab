//go:build tools

// Pins the TCP proxy the fault matrix slows links with (Shopify's toxiproxy-server); its
// versions and checksums are go.mod's and go.sum's. deploy/install-deps.sh builds it into bin/.
package tools

import _ "github.com/Shopify/toxiproxy/v2/cmd/server"
