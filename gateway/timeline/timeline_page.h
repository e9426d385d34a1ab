#pragma once

// The saga timeline web page (web/timeline.html, compiled in): a live waterfall of one saga's
// hops, served by the gateway at GET /timeline. Plain HTML and JS; it reads the JSON API.

#include <string>

namespace choreo::gateway::timeline {

const std::string& TimelinePageHtml();

}  // namespace choreo::gateway::timeline
