"""GitHub REST API (https://docs.github.com/rest): facts about repositories."""
