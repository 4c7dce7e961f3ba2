"""The HTML report: charts and tables drawn from what `warehouse.report` reads of the published marts."""
