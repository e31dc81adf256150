"""The demo raw data generator and its declared demo teams (``make demo-data``)."""
