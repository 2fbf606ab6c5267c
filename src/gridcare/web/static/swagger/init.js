// GridCare API docs: Swagger UI from this site's own copy (swagger-ui-dist 5.35.0, Apache-2.0).
window.addEventListener("DOMContentLoaded", function () {
  "use strict";
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    layout: "BaseLayout",
  });
});
