"""Reference data as dated data files (filing-template.md §6): a package only so that the CSV files
ship with the wheel; ``validations.prudential.reference`` reads them."""
