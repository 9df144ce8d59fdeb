"""What PDFs and pages share: the embedded CJK font and the chart drawings."""
