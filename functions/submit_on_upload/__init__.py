"""The upload function (COS trigger): ``index.main_handler`` submits CI MediaInfo jobs."""
