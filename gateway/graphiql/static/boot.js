// Starts GraphiQL on the customer-gateway page. A file, not an inline script, so the page works
// under Content-Security-Policy "script-src 'self'". The example tabs come from the JSON block
// #graphiql-config that the gateway renders into the page.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("graphiql-config").textContent);
  var params = new URLSearchParams(window.location.search);

  // Share a query by URL as Strawberry's page does: ?q=...&variables=... opens it.
  function remember(name, value) {
    if (value) {
      params.set(name, value);
    } else {
      params.delete(name);
    }
    var search = params.toString();
    history.replaceState(null, "", search ? "?" + search : window.location.pathname);
  }

  var props = {
    // Same URL as the page; no subscriptions (the gateway serves none), so no websocket.
    fetcher: GraphiQL.createFetcher({
      url: window.location.origin + window.location.pathname,
    }),
    plugins: [GraphiQLPluginExplorer.explorerPlugin()],
    defaultTabs: config.tabs,
    defaultEditorToolsVisibility: true,
    inputValueDeprecation: true,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
    onEditQuery: function (query) {
      remember("q", query);
    },
    onEditVariables: function (variables) {
      remember("variables", variables);
    },
  };
  if (params.has("q")) {
    props.query = params.get("q");
    props.variables = params.get("variables") || undefined;
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, props),
  );
})();
