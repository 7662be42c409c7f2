// `causeway intercept`: the laptop side of two-way routing. Holds an
// Intercept on the hub for as long as it runs and, with --tunnel, keeps the
// laptop's tunnel to a staging proxy up, so that requests in staging that
// carry the developer's routing key reach the local service
// (docs/two-way-routing.md).
#pragma once

namespace CLI {
class App;
}

namespace causeway::laptop {

// Adds the `intercept` verb to `app` (after the CLI's verbs, whose top-level
// connection flags it honours).
void AddInterceptCommand(CLI::App& app);

}  // namespace causeway::laptop
