"""The training and curation portal: pages generated from the catalogue, tools and workflows."""
