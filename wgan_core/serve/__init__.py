"""Serving training to many sessions: the server's pool and run handles, the worker process, its
scheduler, and lesson jobs. Imports the engine, lessons and files; never streamlit."""
