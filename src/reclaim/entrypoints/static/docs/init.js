// Reclaim's Swagger UI page: started from a file served by Reclaim itself, not from an inline
// script, so that the page's Content-Security-Policy allows scripts from 'self' only.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    // Swagger UI would otherwise send the schema's URL to validator.swagger.io for its badge.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
  });
});
