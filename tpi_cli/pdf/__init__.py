"""PDF documents built with reportlab: each takes records and returns the PDF's bytes.

Import these modules only in commands that make PDFs: reportlab adds ~130 ms to start-up.
"""

from reportlab import rl_config

# reportlab checks every attribute set on a drawing's shapes against their declared types when its graphics
# are imported with this on (a help "when developing", its own words): a quarter of drawing the review's
# chart, for drawings whose attributes are fixed in our code and the same in every document
rl_config.shapeChecking = 0
