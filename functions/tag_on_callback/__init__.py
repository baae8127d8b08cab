"""The callback function (SCF function URL): ``index.main_handler`` tags objects from CI results."""
