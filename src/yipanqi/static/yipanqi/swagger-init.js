// Starts Swagger UI for /api/docs/ from data-* attributes: the CSP forbids the inline script drf-spectacular
// ships. Mirrors drf_spectacular/swagger_ui.js: CSRF header for session-authenticated writes, schema reload
// after authorising, credentials for the schema request when the schema is not public.
(function () {
  "use strict";

  var root = document.getElementById("swagger-ui");
  var data = root.dataset;
  function parse(text, fallback) {
    if (!text) {
      return fallback;
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      console.error("swagger-init: bad JSON in data attribute", error);
      return fallback;
    }
  }

  var swaggerSettings = parse(data.settings, {});
  var schemaAuthNames = parse(data.schemaAuthNames, []);
  var oauth2Config = parse(data.oauth2Config, null);
  var schemaAuthFailed = false;
  var ui = null;
  var plugins = [];

  function reloadSchema(original) {
    return function () {
      schemaAuthFailed = false;
      window.setTimeout(function () { ui.specActions.download(); });
      return original.apply(null, arguments);
    };
  }

  if (schemaAuthNames.length > 0) {
    plugins.push(function () {
      return {
        statePlugins: {
          auth: {
            wrapActions: { authorizeOauth2: reloadSchema, authorize: reloadSchema, logout: reloadSchema },
          },
        },
      };
    });
  }

  function isSchemaUrl(url) {
    return ui !== null && url === new URL(ui.getConfigs().url, document.baseURI).href;
  }

  function responseInterceptor(response) {
    if (!response.ok && isSchemaUrl(response.url) && !schemaAuthFailed) {
      // Retry once without credentials, as drf-spectacular does.
      schemaAuthFailed = true;
      window.setTimeout(function () { ui.specActions.download(); });
    }
    return response;
  }

  function injectAuthCredentials(request) {
    if (ui === null) {
      return;
    }
    var state = ui.getState().get("auth").get("authorized");
    var authorized = state !== undefined ? state.toJS() : {};
    for (var i = 0; i < schemaAuthNames.length; i++) {
      var auth = authorized[schemaAuthNames[i]];
      if (!auth || !auth.schema) {
        continue;
      }
      if (auth.schema.type === "http" && auth.schema.scheme === "bearer") {
        request.headers.Authorization = "Bearer " + auth.value;
        return;
      }
      if (auth.schema.type === "http" && auth.schema.scheme === "basic") {
        request.headers.Authorization = "Basic " + btoa(auth.value.username + ":" + auth.value.password);
        return;
      }
      if (auth.schema.type === "apiKey" && auth.schema.in === "header") {
        request.headers[auth.schema.name] = auth.value;
        return;
      }
    }
  }

  function requestInterceptor(request) {
    if (request.loadSpec && schemaAuthNames.length > 0 && !schemaAuthFailed) {
      try {
        injectAuthCredentials(request);
      } catch (error) {
        console.error("schema auth injection failed", error);
      }
    }
    if (["GET", undefined].indexOf(request.method) === -1 && request.credentials === "same-origin") {
      request.headers[data.csrfHeader] = data.csrfToken;
    }
    return request;
  }

  var config = {
    url: data.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    plugins: plugins,
    layout: "BaseLayout",
    // The online validator badge would load an image from another origin (blocked by img-src 'self').
    validatorUrl: null,
    requestInterceptor: requestInterceptor,
    responseInterceptor: responseInterceptor,
  };
  Object.keys(swaggerSettings).forEach(function (key) {
    config[key] = swaggerSettings[key];
  });
  ui = SwaggerUIBundle(config);
  if (oauth2Config && Object.keys(oauth2Config).length > 0) {
    ui.initOAuth(oauth2Config);
  }
})();
