"""OpenWeatherMap (https://openweathermap.org/current): current weather of a city."""
