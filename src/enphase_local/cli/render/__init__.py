"""Rich views of the JSON contract: number formats, snapshot and device tables, the live view."""
