"""PDF documents built with reportlab: each takes records and returns the PDF's bytes.

Import these modules only in commands that make PDFs: reportlab adds ~130 ms to start-up.
"""
