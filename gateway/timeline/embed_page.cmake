# Writes OUTPUT, a C++ file defining choreo::gateway::timeline::TimelinePageHtml() as the
# contents of INPUT.
file(READ ${INPUT} content)
file(WRITE ${OUTPUT}
  "// Generated from gateway/timeline/web/timeline.html; do not edit.\n"
  "#include \"gateway/timeline/timeline_page.h\"\n\n"
  "namespace choreo::gateway::timeline {\n\n"
  "const std::string& TimelinePageHtml() {\n"
  "  static const std::string* page = new std::string(R\"choreo_page(${content})choreo_page\");\n"
  "  return *page;\n"
  "}\n\n"
  "}  // namespace choreo::gateway::timeline\n")
