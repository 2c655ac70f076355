"""Pages for people, one module per area. Views are thin: they call the apps' selectors
and services, never their models' managers for writes, and render templates/web/."""
