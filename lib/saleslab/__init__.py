"""SalesLab: a notebook-driven workbench for sales data analysis and customer management."""

__version__ = "0.1.0"
