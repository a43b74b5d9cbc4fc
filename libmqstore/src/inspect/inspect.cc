// placeholder until inspect lands
