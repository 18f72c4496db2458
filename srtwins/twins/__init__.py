"""The twin-classifier study: arms and their pixels, classifiers, cross-validation, the decision."""
