from clarion_cli.main import app

app()
