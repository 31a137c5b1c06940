"""Windows, panels and dialogs. They talk to models and the controller, never to SQL."""
