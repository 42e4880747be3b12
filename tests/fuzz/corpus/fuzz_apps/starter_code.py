class Solution:
    def minPlatforms(self, arrivals: List[int], departures: List[int]) -> int:
        