print("var-gen: under construction")
