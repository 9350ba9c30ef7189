"""Reading and validating input, and the engines that run the matchers over it."""
