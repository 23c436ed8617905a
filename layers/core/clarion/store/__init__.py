"""DynamoDB access: key design, (de)serialisation, batched and conditional writes."""
