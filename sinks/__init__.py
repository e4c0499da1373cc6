"""Where results leave the pipeline: ClickHouse writer, dead-letter records, alert delivery."""
