"""The reconcile function (timer trigger): ``index.main_handler`` repairs missed callbacks."""
