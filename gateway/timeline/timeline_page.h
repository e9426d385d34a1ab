#pragma once

// The saga timeline web page (web/timeline.html, compiled in): a live waterfall of one saga's
// hops, served by the gateway at GET /timeline. Plain HTML and JS; it reads the JSON API.

#include <string>

namespace choreo::gateway::timeline {

const std::string& TimelinePageHtml();

// The page's Content-Security-Policy: its own inline script and style only (by their SHA-256),
// requests to its own origin only, never in a frame, no forms, no <base>.
const std::string& TimelinePageCsp();

}  // namespace choreo::gateway::timeline
