"""What PDFs, pages and exports share: the embedded CJK font, the chart
drawings, text for reportlab paragraphs (`markup`) and CSV files (`csv`)."""
